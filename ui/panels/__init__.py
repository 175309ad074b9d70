"""The page's panels, each a function that lays out its components inside the current Blocks."""
