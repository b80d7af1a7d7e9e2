"""The only code that formats: Rich tables for people, JSON/JSONL/CSV/Markdown for machines."""
