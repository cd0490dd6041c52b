"""The enrichment room: a compensation plan, the enricher's work and the participants' review."""
