"""The regional satellite: pulls its region's definitions, keeps them running, reports status."""
