"""Blueprints, one module per part of the site."""
