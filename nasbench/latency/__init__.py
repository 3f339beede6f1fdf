"""Inference latency: measured per architecture and runtime (torch imported only here)."""
