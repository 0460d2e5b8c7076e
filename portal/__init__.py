"""The web app: units' pages and ballots, the secretariat's page, the feeds and the API."""
