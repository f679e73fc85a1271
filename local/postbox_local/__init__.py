"""Postbox on one machine: moto server, local API gateway, stream pump, MQTT broker, and the `postbox` CLI."""
