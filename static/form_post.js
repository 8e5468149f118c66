// OAuth 2.0 Form Post Response Mode: submit the response form as soon as the page loads.
document.getElementById("ward-response").submit();
