"""Account trajectories, survival models, LTV, revenue at risk, back-tests, dark-funnel measurement."""
