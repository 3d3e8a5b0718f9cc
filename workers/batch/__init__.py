"""Batches (issue 19): one workflow per batch, run by the worker, whose activities run the input
file's lines as metered calls of the batch's key and write the output and error files."""
