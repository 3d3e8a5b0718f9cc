"""Ringside: an open-source metering gateway for AI.

This package holds what every role shares: the settings, the API error codes, the CLI that starts
the roles, and (in ringside/core/v1/) the code generated from protos/.
"""
