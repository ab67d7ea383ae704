"""The application the REST conformance suite serves on every runtime (modelled on seed 001)."""
