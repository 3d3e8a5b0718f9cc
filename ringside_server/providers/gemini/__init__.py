"""Google Gemini (generateContent / streamGenerateContent), translated to and from OpenAI Chat Completions."""
