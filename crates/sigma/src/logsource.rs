//! Sigma `logsource` to Windows event logs: which channels and event ids a rule looks at,
//! and the field names those events use for the rule's names (Security 4688 says
//! `NewProcessName` where Sysmon's process creation says `Image`).

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const SECURITY: &str = "Security";
const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";
const POWERSHELL_CLASSIC: &str = "Windows PowerShell";

/// One kind of event a rule applies to. Empty `channels` or `event_ids` mean any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Branch {
    pub channels: Vec<&'static str>,
    pub event_ids: Vec<i64>,
    /// (rule field, event field) renames for these events.
    pub aliases: &'static [(&'static str, &'static str)],
}

/// The events a rule applies to: any of its branches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub branches: Vec<Branch>,
}

/// Security 4688's names for Sysmon process-creation fields.
const PROCESS_CREATION_4688: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
    ("ProcessId", "NewProcessId"),
    ("ParentProcessId", "ProcessId"),
    ("IntegrityLevel", "MandatoryLabel"),
];

/// Security 5156's names for Sysmon network-connection fields.
const NETWORK_CONNECTION_5156: &[(&str, &str)] = &[
    ("Image", "Application"),
    ("SourceIp", "SourceAddress"),
    ("DestinationIp", "DestAddress"),
    ("DestinationPort", "DestPort"),
];

/// Microsoft Defender's names for its rules' fields where a system field has the name: its
/// `Source Name` (where a detection came from: `AMSI`, `Real-Time Protection`) is what
/// `SourceName` means in its rules, not the provider (which is `Provider_Name`).
const DEFENDER: &[(&str, &str)] = &[("SourceName", "Source Name")];

/// The renames a service's events need whatever the rule's category.
fn service_aliases(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "windefend" => DEFENDER,
        _ => &[],
    }
}

/// Field names every event shares whatever the rule's logsource: Sigma's names for the
/// `System` fields, as the flat event schema calls them.
pub const COMMON_ALIASES: &[(&str, &str)] = &[("Provider_Name", "SourceName"), ("Computer", "Hostname")];

fn sysmon(event_ids: &[i64]) -> Branch {
    channel(SYSMON, event_ids)
}

fn channel(name: &'static str, event_ids: &[i64]) -> Branch {
    Branch { channels: vec![name], event_ids: event_ids.to_vec(), aliases: &[] }
}

/// Sigma's Windows categories and the events that carry them.
fn category(name: &str) -> Option<Vec<Branch>> {
    Some(match name {
        "process_creation" => vec![
            sysmon(&[1]),
            Branch { channels: vec![SECURITY], event_ids: vec![4688], aliases: PROCESS_CREATION_4688 },
        ],
        "network_connection" => vec![
            sysmon(&[3]),
            Branch { channels: vec![SECURITY], event_ids: vec![5156], aliases: NETWORK_CONNECTION_5156 },
        ],
        "sysmon_status" => vec![sysmon(&[4, 16])],
        "process_termination" => vec![sysmon(&[5])],
        "driver_load" => vec![sysmon(&[6])],
        "image_load" => vec![sysmon(&[7])],
        "create_remote_thread" => vec![sysmon(&[8])],
        "raw_access_thread" => vec![sysmon(&[9])],
        "process_access" => vec![sysmon(&[10])],
        "file_change" => vec![sysmon(&[2])],
        "file_event" => vec![sysmon(&[11])],
        "registry_add" | "registry_delete" => vec![sysmon(&[12])],
        "registry_set" => vec![sysmon(&[13])],
        "registry_rename" => vec![sysmon(&[14])],
        "registry_event" => vec![sysmon(&[12, 13, 14])],
        "create_stream_hash" => vec![sysmon(&[15])],
        "pipe_created" => vec![sysmon(&[17, 18])],
        "wmi_event" => vec![sysmon(&[19, 20, 21])],
        "dns_query" => vec![sysmon(&[22])],
        "file_delete" => vec![sysmon(&[23, 26])],
        "clipboard_capture" => vec![sysmon(&[24])],
        "process_tampering" => vec![sysmon(&[25])],
        "file_block_executable" => vec![sysmon(&[27])],
        "file_block_shredding" => vec![sysmon(&[28])],
        "file_executable_detected" => vec![sysmon(&[29])],
        "sysmon_error" => vec![sysmon(&[255])],
        "ps_module" => vec![channel(POWERSHELL, &[4103])],
        "ps_script" => vec![channel(POWERSHELL, &[4104])],
        "ps_classic_start" => vec![channel(POWERSHELL_CLASSIC, &[400])],
        "ps_classic_provider_start" => vec![channel(POWERSHELL_CLASSIC, &[600])],
        "ps_classic_script" => vec![channel(POWERSHELL_CLASSIC, &[800])],
        _ => return None,
    })
}

/// Sigma's Windows services and the channels they name.
fn service(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "security" => &[SECURITY],
        "system" => &["System"],
        "application" => &["Application"],
        "sysmon" => &[SYSMON],
        "powershell" => &[POWERSHELL],
        "powershell-classic" => &[POWERSHELL_CLASSIC],
        "taskscheduler" => &["Microsoft-Windows-TaskScheduler/Operational"],
        "wmi" => &["Microsoft-Windows-WMI-Activity/Operational"],
        "dns-server" => &["DNS Server"],
        "dns-server-analytic" => &["Microsoft-Windows-DNS-Server/Analytical"],
        "dns-client" => &["Microsoft-Windows-DNS Client Events/Operational"],
        "driver-framework" => &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"],
        "windefend" => &["Microsoft-Windows-Windows Defender/Operational"],
        "firewall-as" => &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"],
        "bits-client" => &["Microsoft-Windows-Bits-Client/Operational"],
        "codeintegrity-operational" => &["Microsoft-Windows-CodeIntegrity/Operational"],
        "applocker" => &[
            "Microsoft-Windows-AppLocker/MSI and Script",
            "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution",
        ],
        "msexchange-management" => &["MSExchange Management"],
        "printservice-admin" => &["Microsoft-Windows-PrintService/Admin"],
        "printservice-operational" => &["Microsoft-Windows-PrintService/Operational"],
        "smbclient-security" => &["Microsoft-Windows-SmbClient/Security"],
        "smbclient-connectivity" => &["Microsoft-Windows-SmbClient/Connectivity"],
        "smbserver-connectivity" => &["Microsoft-Windows-SMBServer/Connectivity"],
        "ntlm" => &["Microsoft-Windows-NTLM/Operational"],
        "terminalservices-localsessionmanager" => &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"],
        "openssh" => &["OpenSSH/Operational"],
        "shell-core" => &["Microsoft-Windows-Shell-Core/Operational"],
        "ldap" => &["Microsoft-Windows-LDAP-Client/Debug"],
        "security-mitigations" => &["Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"],
        "diagnosis-scripted" => &["Microsoft-Windows-Diagnosis-Scripted/Operational"],
        "dhcp" => &["Microsoft-Windows-DHCP-Server/Operational"],
        "appxdeployment-server" => &["Microsoft-Windows-AppXDeploymentServer/Operational"],
        "appxpackaging-om" => &["Microsoft-Windows-AppxPackaging/Operational"],
        "appmodel-runtime" => &["Microsoft-Windows-AppModel-Runtime/Admin"],
        "lsa-server" => &["Microsoft-Windows-LSA/Operational"],
        "capi2" => &["Microsoft-Windows-CAPI2/Operational"],
        "certificateservicesclient-lifecycle-system" => &["Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"],
        "bitlocker" => &["Microsoft-Windows-BitLocker/BitLocker Management"],
        "hyper-v-worker" => &["Microsoft-Windows-Hyper-V-Worker-Admin"],
        "kernel-shimengine" => &["Microsoft-Windows-Kernel-ShimEngine/Operational"],
        "microsoft-servicebus-client" => &["Microsoft-ServiceBus-Client"],
        "sysmon-operational" => &[SYSMON],
        "vhdmp" => &["Microsoft-Windows-VHDMP-Operational"],
        "wmi-activity" => &["Microsoft-Windows-WMI-Activity/Operational"],
        "iis-configuration" => &["Microsoft-IIS-Configuration/Operational"],
        "ntfs" => &["Microsoft-Windows-Ntfs/Operational"],
        "rdp" => &["Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational"],
        "terminalservices-remoteconnectionmanager" => &["Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"],
        _ => return None,
    })
}

/// Resolves a rule's logsource. Only Windows event logs are mapped; anything else is an
/// error that says what is missing.
pub fn resolve(product: Option<&str>, category_name: Option<&str>, service_name: Option<&str>) -> Result<Source, String> {
    match product.map(str::to_ascii_lowercase).as_deref() {
        Some("windows") => {}
        Some(other) => return Err(format!("logsource product `{other}` has no mapping (hela hunts Windows event logs)")),
        None if category_name.is_none() && service_name.is_none() => return Err("logsource names no product, category or service".into()),
        None => {}
    }
    let mut branches = match category_name {
        Some(name) => category(&name.to_ascii_lowercase())
            .ok_or_else(|| format!("logsource category `{name}` has no mapping to Windows event logs"))?,
        None => vec![Branch { channels: Vec::new(), event_ids: Vec::new(), aliases: &[] }],
    };
    if let Some(name) = service_name {
        let name_lower = name.to_ascii_lowercase();
        let channels = service(&name_lower).ok_or_else(|| format!("logsource service `{name}` has no mapping"))?;
        for branch in &mut branches {
            if branch.aliases.is_empty() {
                branch.aliases = service_aliases(&name_lower);
            }
            branch.channels = if branch.channels.is_empty() {
                channels.to_vec()
            } else {
                branch.channels.iter().copied().filter(|c| channels.contains(c)).collect()
            };
        }
        branches.retain(|b| !b.channels.is_empty());
        if branches.is_empty() {
            return Err(format!("logsource service `{name}` has no events of category `{}`", category_name.unwrap_or_default()));
        }
    }
    Ok(Source { branches })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_creation_is_sysmon_1_and_security_4688_with_renames() {
        let source = resolve(Some("windows"), Some("process_creation"), None).unwrap();
        assert_eq!(source.branches.len(), 2);
        assert_eq!((source.branches[0].channels[0], source.branches[0].event_ids.as_slice()), (SYSMON, &[1][..]));
        assert!(source.branches[1].aliases.contains(&("Image", "NewProcessName")));
    }

    #[test]
    fn services_narrow_to_channels_and_unknowns_are_reasons() {
        let security = resolve(Some("windows"), None, Some("security")).unwrap();
        assert_eq!(security.branches[0].channels, vec!["Security"]);
        assert!(security.branches[0].event_ids.is_empty());
        assert!(resolve(Some("linux"), Some("process_creation"), None).unwrap_err().contains("linux"));
        assert!(resolve(Some("windows"), Some("antivirus"), None).unwrap_err().contains("antivirus"));
        assert!(resolve(Some("windows"), None, Some("nope")).unwrap_err().contains("nope"));
        let defender = resolve(Some("windows"), None, Some("windefend")).unwrap();
        assert!(defender.branches[0].aliases.contains(&("SourceName", "Source Name")));
    }
}
