"""What ``klx monitor`` shows, without a screen: the events (``events``), the fleet model built from them
(``model``) and the sources that produce them (``sources``: boxes, the cloud, recordings)."""
