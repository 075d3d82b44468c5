"""Coordinator and physician dashboards: the census, patient timelines and cohort analytics (reads only)."""
