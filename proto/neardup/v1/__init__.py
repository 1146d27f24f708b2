"""The neardup gRPC contract (`neardup.proto`) and the stubs generated from it by `make proto`."""
