"""The platform's vocabulary of measurements: quantities with SI units, readings with quality,
and the versioned uplink envelope that carries them from a gateway to the central side."""
