# One date format across the staff pages, the admin and the imports (English).
DATE_FORMAT = "d M Y"
DATETIME_FORMAT = "d M Y H:i"
SHORT_DATE_FORMAT = "d M"
SHORT_DATETIME_FORMAT = "d M H:i"
TIME_FORMAT = "H:i"
