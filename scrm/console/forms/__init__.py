"""Console forms, one module per area; `common` holds what several areas share."""
