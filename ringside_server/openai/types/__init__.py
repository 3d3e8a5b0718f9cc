"""OpenAI's request bodies, one module per route: the wire type (a TypedDict naming the fields
Ringside reads; every other field is relayed untouched) and the checks a valid body passes, each
refusal in OpenAI's terms with its `param`. Hand-checked TypedDicts, measured cheapest on the hot
path (bench/wire_validation.py)."""
