package neterr

var host = windowsErrnos
