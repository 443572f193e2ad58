// Route table and route cache entry points (filled in by assembly/router/).
