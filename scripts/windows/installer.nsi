; The sqlexam installer for Windows venues, built on Linux with Debian's makensis
; (scripts/bundle.sh --windows). Installs for the current user only (no administrator
; rights, nothing outside the user's profile), adds Start-menu and desktop shortcuts and an
; uninstaller, and never needs the internet: see "WebView2" below and docs/ARCHITECTURE.md.
;
; makensis defines: VERSION (x.y.z), APP_EXE and CLI_EXE (paths of the built binaries),
; OUT (the installer to write), and WEBVIEW2_INSTALLER when a release machine provides
; Microsoft's offline WebView2 Runtime installer to bundle.

Unicode true
; A 64-bit installer: the app is 64-bit only, and so is Debian's wine64 that tests it.
Target amd64-unicode
!include "MUI2.nsh"
!include "LogicLib.nsh"

Name "sqlexam"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Programs\sqlexam"
InstallDirRegKey HKCU "Software\sqlexam" "InstallDir"
RequestExecutionLevel user
SetCompressor /SOLID lzma

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "sqlexam"
VIAddVersionKey /LANG=1033 "FileDescription" "sqlexam installer"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "CompanyName" "sqlexam"
VIAddVersionKey /LANG=1033 "LegalCopyright" "MIT OR Apache-2.0"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Japanese"

LangString NoWebView2 ${LANG_ENGLISH} "This computer does not have the Microsoft Edge WebView2 Runtime, which the sqlexam app needs to show its window. Windows 11 and updated Windows 10 include it. Ask the exam organizer for the installer that bundles it (it installs without the internet), or install the WebView2 Runtime, then run sqlexam."
LangString NoWebView2 ${LANG_JAPANESE} "このコンピューターには sqlexam の表示に必要な Microsoft Edge WebView2 ランタイムがありません。Windows 11 と更新済みの Windows 10 には含まれています。ランタイムを同梱したインストーラー（インターネット不要）を試験の主催者から受け取るか、WebView2 ランタイムをインストールしてから sqlexam を起動してください。"
LangString InstallingWebView2 ${LANG_ENGLISH} "Installing the WebView2 Runtime (no internet needed)…"
LangString InstallingWebView2 ${LANG_JAPANESE} "WebView2 ランタイムをインストールしています（インターネット不要）…"

; The WebView2 Runtime is installed when Edge Update lists it, machine-wide or per user.
!define WEBVIEW2_KEY "Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
Function HasWebView2
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\${WEBVIEW2_KEY}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\${WEBVIEW2_KEY}" "pv"
  ${EndIf}
  ${If} $0 == "0.0.0.0"
    StrCpy $0 ""
  ${EndIf}
FunctionEnd

Section "sqlexam"
  SetOutPath "$INSTDIR"
  File "/oname=sqlexam.exe" "${APP_EXE}"
  File "/oname=sqlexam-cli.exe" "${CLI_EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\sqlexam" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "DisplayName" "sqlexam"
  WriteRegStr HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "Publisher" "sqlexam"
  WriteRegStr HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "DisplayIcon" "$INSTDIR\sqlexam.exe"
  WriteRegStr HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "NoModify" 1
  WriteRegDWORD HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam" "NoRepair" 1
  CreateDirectory "$SMPROGRAMS\sqlexam"
  CreateShortcut "$SMPROGRAMS\sqlexam\sqlexam.lnk" "$INSTDIR\sqlexam.exe"
  CreateShortcut "$DESKTOP\sqlexam.lnk" "$INSTDIR\sqlexam.exe"

  Call HasWebView2
  ${If} $0 == ""
!ifdef WEBVIEW2_INSTALLER
    DetailPrint "$(InstallingWebView2)"
    InitPluginsDir
    SetOutPath "$PLUGINSDIR"
    File "/oname=webview2-setup.exe" "${WEBVIEW2_INSTALLER}"
    ExecWait '"$PLUGINSDIR\webview2-setup.exe" /silent /install' $1
    SetOutPath "$INSTDIR"
!else
    MessageBox MB_ICONEXCLAMATION|MB_OK "$(NoWebView2)" /SD IDOK
!endif
  ${EndIf}
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\sqlexam.exe"
  Delete "$INSTDIR\sqlexam-cli.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\sqlexam\sqlexam.lnk"
  RMDir "$SMPROGRAMS\sqlexam"
  Delete "$DESKTOP\sqlexam.lnk"
  DeleteRegKey HKCU "Software\Microsoft\Windows\CurrentVersion\Uninstall\sqlexam"
  DeleteRegKey HKCU "Software\sqlexam"
  ; Exam records (%APPDATA%\sqlexam) are kept: they are results, not the program.
SectionEnd
