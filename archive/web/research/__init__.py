"""The researchers' statistics page with its server-side SVG plots.
"""
