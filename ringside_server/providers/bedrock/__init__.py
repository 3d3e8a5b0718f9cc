"""AWS Bedrock Converse, translated to and from OpenAI Chat Completions."""
