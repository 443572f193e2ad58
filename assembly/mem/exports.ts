// Slab pool entry points (filled in by assembly/mem/slab.ts).
