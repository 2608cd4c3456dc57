"""Maintainer scripts: run the lessons and publish results, normalise notebooks."""
