"""neardup's gRPC face: the server, the Python client and the `neardup` CLI."""
