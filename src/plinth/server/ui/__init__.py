"""The web UI: server-rendered Jinja2 pages, htmx for partial updates, uPlot for charts."""
