"""Batches (issue 19): the input file's lines (read and validated alike by the edge at create and by
the worker as it runs them) and the output and error files' line format, in OpenAI's terms."""
