"""Compiled kernels: arrays and scalars in, arrays out; no closures over parameters."""
