package mesos

import "slices"

// ContainerType is ContainerInfo.Type.
type ContainerType string

const (
	ContainerDocker ContainerType = "DOCKER"
	ContainerMesos  ContainerType = "MESOS"
)

var containerTypes = enumSet(ContainerDocker, ContainerMesos)

// IsKnown reports whether t is one of Mesos' names.
func (t ContainerType) IsKnown() bool { _, ok := containerTypes[t]; return ok }

// ContainerInfo describes the container a task or executor runs in. Strata
// keeps the fields frameworks commonly send; others are dropped on decode.
type ContainerInfo struct {
	Type         ContainerType `json:"type" mesos:"required"`
	Volumes      []Volume      `json:"volumes,omitempty"`
	Hostname     string        `json:"hostname,omitempty"`
	Docker       *DockerInfo   `json:"docker,omitempty"`
	Mesos        *MesosInfo    `json:"mesos,omitempty"`
	NetworkInfos []NetworkInfo `json:"network_infos,omitempty"`
	LinuxInfo    *LinuxInfo    `json:"linux_info,omitempty"`
	TTYInfo      *TTYInfo      `json:"tty_info,omitempty"`
	RLimitInfo   *RLimitInfo   `json:"rlimit_info,omitempty"`
}

// DockerNetwork is ContainerInfo.DockerInfo.Network.
type DockerNetwork string

const (
	DockerNetworkHost   DockerNetwork = "HOST"
	DockerNetworkBridge DockerNetwork = "BRIDGE"
	DockerNetworkNone   DockerNetwork = "NONE"
	DockerNetworkUser   DockerNetwork = "USER"
)

var dockerNetworks = enumSet(DockerNetworkHost, DockerNetworkBridge, DockerNetworkNone, DockerNetworkUser)

// IsKnown reports whether n is one of Mesos' names.
func (n DockerNetwork) IsKnown() bool { _, ok := dockerNetworks[n]; return ok }

// DockerInfo configures a DOCKER container. Network defaults to HOST.
type DockerInfo struct {
	Image          string              `json:"image"`
	Network        DockerNetwork       `json:"network,omitempty"`
	PortMappings   []DockerPortMapping `json:"port_mappings,omitempty"`
	Privileged     *bool               `json:"privileged,omitempty"`
	Parameters     []Parameter         `json:"parameters,omitempty"`
	ForcePullImage *bool               `json:"force_pull_image,omitempty"`
}

// DockerPortMapping maps a host port to a container port.
type DockerPortMapping struct {
	HostPort      uint32 `json:"host_port"`
	ContainerPort uint32 `json:"container_port"`
	Protocol      string `json:"protocol,omitempty"`
}

// MesosInfo configures a MESOS container; Image is optional.
type MesosInfo struct {
	Image *Image `json:"image,omitempty"`
}

// ImageType is Image.Type.
type ImageType string

const (
	ImageAppc   ImageType = "APPC"
	ImageDocker ImageType = "DOCKER"
)

var imageTypes = enumSet(ImageAppc, ImageDocker)

// IsKnown reports whether t is one of Mesos' names.
func (t ImageType) IsKnown() bool { _, ok := imageTypes[t]; return ok }

// Image names a container image. Cached defaults to true.
type Image struct {
	Type   ImageType    `json:"type" mesos:"required"`
	Appc   *AppcImage   `json:"appc,omitempty"`
	Docker *DockerImage `json:"docker,omitempty"`
	Cached *bool        `json:"cached,omitempty"`
}

// AppcImage names an App Container image.
type AppcImage struct {
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Labels Labels `json:"labels,omitempty"`
}

// DockerImage names a Docker image.
type DockerImage struct {
	Name   string  `json:"name"`
	Config *Secret `json:"config,omitempty"`
}

// VolumeMode is Volume.Mode.
type VolumeMode string

const (
	VolumeRW VolumeMode = "RW"
	VolumeRO VolumeMode = "RO"
)

var volumeModes = enumSet(VolumeRW, VolumeRO)

// IsKnown reports whether m is one of Mesos' names.
func (m VolumeMode) IsKnown() bool { _, ok := volumeModes[m]; return ok }

// Volume maps a path into a container.
type Volume struct {
	Mode          VolumeMode    `json:"mode" mesos:"required"`
	ContainerPath string        `json:"container_path"`
	HostPath      string        `json:"host_path,omitempty"`
	Image         *Image        `json:"image,omitempty"`
	Source        *VolumeSource `json:"source,omitempty"`
}

func (v Volume) clone() Volume {
	if v.Image != nil {
		img := *v.Image
		v.Image = &img
	}
	if v.Source != nil {
		s := *v.Source
		if s.HostPath != nil {
			h := *s.HostPath
			s.HostPath = &h
		}
		if s.SandboxPath != nil {
			p := *s.SandboxPath
			s.SandboxPath = &p
		}
		if s.DockerVolume != nil {
			d := *s.DockerVolume
			d.DriverOptions = slices.Clone(d.DriverOptions)
			s.DockerVolume = &d
		}
		v.Source = &s
	}
	return v
}

// VolumeSourceType is Volume.Source.Type.
type VolumeSourceType string

const (
	VolumeSourceUnknown      VolumeSourceType = "UNKNOWN"
	VolumeSourceDockerVolume VolumeSourceType = "DOCKER_VOLUME"
	VolumeSourceHostPath     VolumeSourceType = "HOST_PATH"
	VolumeSourceSandboxPath  VolumeSourceType = "SANDBOX_PATH"
	VolumeSourceSecret       VolumeSourceType = "SECRET"
	VolumeSourceCSIVolume    VolumeSourceType = "CSI_VOLUME"
)

var volumeSourceTypes = enumSet(VolumeSourceUnknown, VolumeSourceDockerVolume, VolumeSourceHostPath,
	VolumeSourceSandboxPath, VolumeSourceSecret, VolumeSourceCSIVolume)

// IsKnown reports whether t is one of Mesos' names.
func (t VolumeSourceType) IsKnown() bool { _, ok := volumeSourceTypes[t]; return ok }

// VolumeSource says where a volume's content comes from.
type VolumeSource struct {
	Type         VolumeSourceType   `json:"type,omitempty"`
	DockerVolume *DockerVolume      `json:"docker_volume,omitempty"`
	HostPath     *HostPathSource    `json:"host_path,omitempty"`
	SandboxPath  *SandboxPathSource `json:"sandbox_path,omitempty"`
	Secret       *Secret            `json:"secret,omitempty"`
}

// DockerVolume is a volume managed by a Docker volume driver.
type DockerVolume struct {
	Driver        string      `json:"driver,omitempty"`
	Name          string      `json:"name"`
	DriverOptions []Parameter `json:"driver_options,omitempty"`
}

// HostPathSource mounts a host path.
type HostPathSource struct {
	Path string `json:"path"`
}

// SandboxPathType is Volume.Source.SandboxPath.Type.
type SandboxPathType string

const (
	SandboxPathUnknown SandboxPathType = "UNKNOWN"
	SandboxPathSelf    SandboxPathType = "SELF"
	SandboxPathParent  SandboxPathType = "PARENT"
)

var sandboxPathTypes = enumSet(SandboxPathUnknown, SandboxPathSelf, SandboxPathParent)

// IsKnown reports whether t is one of Mesos' names.
func (t SandboxPathType) IsKnown() bool { _, ok := sandboxPathTypes[t]; return ok }

// SandboxPathSource mounts a path of this or the parent container's sandbox.
type SandboxPathSource struct {
	Type SandboxPathType `json:"type,omitempty"`
	Path string          `json:"path"`
}

// NetworkProtocol is NetworkInfo.Protocol.
type NetworkProtocol string

const (
	IPv4 NetworkProtocol = "IPv4"
	IPv6 NetworkProtocol = "IPv6"
)

var networkProtocols = enumSet(IPv4, IPv6)

// IsKnown reports whether p is one of Mesos' names.
func (p NetworkProtocol) IsKnown() bool { _, ok := networkProtocols[p]; return ok }

// NetworkInfo is a container's network: requested by a framework, resolved
// (addresses) by the agent in ContainerStatus.
type NetworkInfo struct {
	IPAddresses  []IPAddress          `json:"ip_addresses,omitempty"`
	Name         string               `json:"name,omitempty"`
	Groups       []string             `json:"groups,omitempty"`
	Labels       Labels               `json:"labels,omitempty"`
	PortMappings []NetworkPortMapping `json:"port_mappings,omitempty"`
}

// IPAddress is one address of a container; Protocol defaults to IPv4.
type IPAddress struct {
	Protocol  NetworkProtocol `json:"protocol,omitempty"`
	IPAddress string          `json:"ip_address,omitempty"`
}

// NetworkPortMapping maps a host port to a container port on a network.
type NetworkPortMapping struct {
	HostPort      uint32 `json:"host_port"`
	ContainerPort uint32 `json:"container_port"`
	Protocol      string `json:"protocol,omitempty"`
}

// LinuxIPCMode is LinuxInfo.IpcMode.
type LinuxIPCMode string

const (
	IPCUnknown     LinuxIPCMode = "UNKNOWN"
	IPCPrivate     LinuxIPCMode = "PRIVATE"
	IPCShareParent LinuxIPCMode = "SHARE_PARENT"
)

var ipcModes = enumSet(IPCUnknown, IPCPrivate, IPCShareParent)

// IsKnown reports whether m is one of Mesos' names.
func (m LinuxIPCMode) IsKnown() bool { _, ok := ipcModes[m]; return ok }

// LinuxInfo holds the Linux-specific container settings Strata honours.
type LinuxInfo struct {
	SharePIDNamespace *bool        `json:"share_pid_namespace,omitempty"`
	IPCMode           LinuxIPCMode `json:"ipc_mode,omitempty"`
	SHMSize           uint32       `json:"shm_size,omitempty"`
	ShareCgroups      *bool        `json:"share_cgroups,omitempty"` // default true
}

// TTYInfo asks for a pseudo-terminal.
type TTYInfo struct {
	WindowSize *TTYWindowSize `json:"window_size,omitempty"`
}

// TTYWindowSize is a terminal size.
type TTYWindowSize struct {
	Rows    uint32 `json:"rows"`
	Columns uint32 `json:"columns"`
}

// RLimitInfo sets POSIX resource limits.
type RLimitInfo struct {
	RLimits []RLimit `json:"rlimits,omitempty"`
}

// RLimit is one limit ("RLMT_NOFILE"); unset soft/hard mean unlimited.
type RLimit struct {
	Type string  `json:"type,omitempty"`
	Hard *uint64 `json:"hard,omitempty"`
	Soft *uint64 `json:"soft,omitempty"`
}

// ContainerStatus is what the agent learned while setting a container up.
type ContainerStatus struct {
	ContainerID  *ContainerID  `json:"container_id,omitempty"`
	NetworkInfos []NetworkInfo `json:"network_infos,omitempty"`
	CgroupInfo   *CgroupInfo   `json:"cgroup_info,omitempty"`
	ExecutorPID  uint32        `json:"executor_pid,omitempty"`
}

// CgroupInfo is the container's cgroup information.
type CgroupInfo struct {
	NetCls *CgroupNetCls `json:"net_cls,omitempty"`
}

// CgroupNetCls is the net_cls class id.
type CgroupNetCls struct {
	ClassID uint32 `json:"classid,omitempty"`
}
