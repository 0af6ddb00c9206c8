"""Response models of every route: what the HTTP boundary returns (never a DataFrame)."""
