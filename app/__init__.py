"""Application wiring: settings, the core resources, the command line. Imports every other package;
none of them imports it."""
