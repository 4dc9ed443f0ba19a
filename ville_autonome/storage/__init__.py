"""Storage backends behind one small seam (:class:`storage.base.Store`): InfluxDB 1.x/2.x/3.x and
an embedded SQLite file for the zero-setup run."""
