"""Maps and heatmaps drawn as PNG with matplotlib."""
