"""The domain: every rule and every query lives here. No Typer, no Rich."""
