"""A day in Fujisawa: a seeded workload grounded in the city's figures, and simulated agencies that use
only the backbone's public interfaces (HTTP APIs and topics), as real agency systems would."""
