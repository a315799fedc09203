"""`backbone soak`: the day's workload at a steady rate for hours, sampled every minute, to show that nothing grows."""
