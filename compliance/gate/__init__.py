"""What governs the gate: the project configuration and effective settings, waivers, and decision
records."""
