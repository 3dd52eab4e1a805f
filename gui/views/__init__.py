"""The app's views: the results and their tabs, the story (bridge, drivers,
targets, exports), the workshop and the fit wizard."""
