"""The simulated WeCom server API, one module per area; scrm.wecom.simulator.api_views routes to them."""
