"""The backbone's services. Each owns its data and the events it publishes, and talks to the others
only through events and published HTTP APIs: no service imports another."""
