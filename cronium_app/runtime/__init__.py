"""The runtime API's logic: what a running script may read and write."""
