# English dates as the console has always shown them (day month year, 24-hour clock, ISO in
# tables) rather than Django's US defaults; German and Danish use Django's own formats.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
