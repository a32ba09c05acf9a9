"""marshmallow schemas, used only at the boundaries (HTTP forms, JSON API, YAML, Excel/CSV).

``<Thing>In`` loads and validates input; ``<Thing>Out`` dumps output. Messages are in Chinese.
"""
