"""Survival models of account churn, one small module per model.

``pem.PiecewiseExponentialModel``: a hazard model on the monthly panel (Poisson GLM with
the period's exposure as offset, time-varying covariates, ridge penalty).
``cox_tv.CoxTimeVaryingModel``: lifelines' ``CoxTimeVaryingFitter`` on start/stop rows.
Both follow ``base.SurvivalModel``; the fit picks one by back-test (``risk.fit``).
``registry.model_from_dict`` rebuilds either from a run's stored parameters.
"""
