"""Fault injection into the real processes: the product keeps answering and recovers."""
