# One date format across the staff pages, the admin and the imports (Brazilian Portuguese).
DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m"
SHORT_DATETIME_FORMAT = "d/m H:i"
TIME_FORMAT = "H:i"
