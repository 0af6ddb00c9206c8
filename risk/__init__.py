"""Risk: account trajectories, survival models, LTV, revenue at risk, back-tests, ledger,
scenarios and feeds. Never imports from ``marketing`` (nor it from here).
"""
