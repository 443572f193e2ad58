// HTTP/1.1 head parser and serializer entry points (filled in by assembly/codec/http1/).
