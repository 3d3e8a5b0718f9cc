"""The operator dashboard's built assets (static/), made from dashboard/ by `make dashboard`."""
