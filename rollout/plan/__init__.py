"""The plan file: its model, its loader and the checks that tie its parts together."""
