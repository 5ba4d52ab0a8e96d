"""asv benchmarks of fastbp (see benchmarks/README.md); compare_peers.py is a plain script."""
