"""The production writer: job reports parsed, validated and recorded atomically."""
